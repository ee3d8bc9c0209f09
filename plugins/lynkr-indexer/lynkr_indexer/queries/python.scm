; Definitions: @def.<kind> on the node, @name on its name.
(class_definition name: (identifier) @name) @def.class
(function_definition name: (identifier) @name) @def.function
(module (expression_statement (assignment left: (identifier) @name) @def.constant)
  (#match? @name "^[A-Z][A-Z0-9_]*$"))

; References: @ref.<kind> on the node, @name on the name referred to.
(call function: [(identifier) @name (attribute attribute: (identifier) @name)]) @ref.call
(class_definition superclasses: (argument_list [(identifier) @name (attribute attribute: (identifier) @name)] @ref.inherit))
(import_from_statement name: [(dotted_name (identifier) @name .) (aliased_import name: (dotted_name (identifier) @name .))]) @ref.import

; Imported modules: @import on the module's text.
(import_statement name: [(dotted_name) @import (aliased_import name: (dotted_name) @import)])
(import_from_statement module_name: [(dotted_name) (relative_import)] @import)
