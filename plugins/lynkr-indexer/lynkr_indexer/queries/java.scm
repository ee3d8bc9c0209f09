(class_declaration name: (identifier) @name) @def.class
(interface_declaration name: (identifier) @name) @def.interface
(enum_declaration name: (identifier) @name) @def.enum
(record_declaration name: (identifier) @name) @def.class
(annotation_type_declaration name: (identifier) @name) @def.interface
(method_declaration name: (identifier) @name) @def.method
(constructor_declaration name: (identifier) @name) @def.constructor

(method_invocation name: (identifier) @name) @ref.call
(object_creation_expression type: [(type_identifier) @name (generic_type (type_identifier) @name)]) @ref.call
(superclass [(type_identifier) @name (generic_type (type_identifier) @name)]) @ref.inherit
(super_interfaces (type_list [(type_identifier) @name (generic_type (type_identifier) @name)]) @ref.inherit)
(extends_interfaces (type_list [(type_identifier) @name (generic_type (type_identifier) @name)]) @ref.inherit)

(import_declaration (scoped_identifier) @import)
