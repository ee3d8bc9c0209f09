(function_declaration name: (identifier) @name) @def.function
(method_declaration name: (field_identifier) @name) @def.method
(type_spec name: (type_identifier) @name type: (struct_type)) @def.struct
(type_spec name: (type_identifier) @name type: (interface_type)) @def.interface
(type_spec name: (type_identifier) @name type: [(type_identifier) (qualified_type) (function_type) (map_type) (slice_type) (pointer_type) (channel_type) (array_type) (generic_type)]) @def.type

(call_expression function: (identifier) @name) @ref.call
(call_expression function: (selector_expression field: (field_identifier) @name)) @ref.call
(composite_literal type: (type_identifier) @name) @ref.call
(struct_type (field_declaration_list (field_declaration !name type: (type_identifier) @name) @ref.inherit))
(parameter_declaration type: [(type_identifier) @name (pointer_type (type_identifier) @name)]) @ref.type
(field_declaration name: (_) type: [(type_identifier) @name (pointer_type (type_identifier) @name)]) @ref.type

(import_spec path: (interpreted_string_literal) @import)
