(function_declaration name: (identifier) @name) @def.function
(generator_function_declaration name: (identifier) @name) @def.function
(function_signature name: (identifier) @name) @def.function
(class_declaration name: (type_identifier) @name) @def.class
(abstract_class_declaration name: (type_identifier) @name) @def.class
(interface_declaration name: (type_identifier) @name) @def.interface
(type_alias_declaration name: (type_identifier) @name) @def.type
(enum_declaration name: (identifier) @name) @def.enum
(internal_module name: (identifier) @name) @def.module
(method_definition name: (property_identifier) @name) @def.method
(method_signature name: (property_identifier) @name) @def.method
(abstract_method_signature name: (property_identifier) @name) @def.method
(lexical_declaration (variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @def.function)

(call_expression function: (identifier) @name (#not-eq? @name "require")) @ref.call
(call_expression function: (member_expression property: (property_identifier) @name)) @ref.call
(new_expression constructor: (identifier) @name) @ref.call
(extends_clause value: (identifier) @name) @ref.inherit
(implements_clause (type_identifier) @name) @ref.inherit
(extends_type_clause type: (type_identifier) @name) @ref.inherit
(type_annotation (type_identifier) @name) @ref.type
(import_specifier name: (identifier) @name) @ref.import

(import_statement source: (string (string_fragment) @import))
(export_statement source: (string (string_fragment) @import))
