(function_definition declarator: [
  (function_declarator declarator: [(identifier) (field_identifier) (operator_name)] @name)
  (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier)] @name))
  (reference_declarator (function_declarator declarator: [(identifier) (field_identifier)] @name))
]) @def.function
(function_definition declarator: (function_declarator declarator: (qualified_identifier) @name)) @def.method
(class_specifier name: (type_identifier) @name body: (field_declaration_list)) @def.class
(struct_specifier name: (type_identifier) @name body: (field_declaration_list)) @def.struct
(union_specifier name: (type_identifier) @name body: (field_declaration_list)) @def.union
(enum_specifier name: (type_identifier) @name body: (enumerator_list)) @def.enum
(type_definition declarator: (type_identifier) @name) @def.type
(alias_declaration name: (type_identifier) @name) @def.type
(namespace_definition name: (namespace_identifier) @name) @def.namespace
(preproc_def name: (identifier) @name) @def.macro
(preproc_function_def name: (identifier) @name) @def.macro

(call_expression function: (identifier) @name) @ref.call
(call_expression function: (field_expression field: (field_identifier) @name)) @ref.call
(call_expression function: (qualified_identifier name: (identifier) @name)) @ref.call
(new_expression type: (type_identifier) @name) @ref.call
(base_class_clause (type_identifier) @name) @ref.inherit
(base_class_clause (qualified_identifier name: (type_identifier) @name)) @ref.inherit

(preproc_include path: (string_literal (string_content) @import))
(preproc_include path: (system_lib_string) @import)
