(method name: (_) @name) @def.method
(singleton_method name: (_) @name) @def.method
(class name: [(constant) @name (scope_resolution name: (_) @name)]) @def.class
(module name: [(constant) @name (scope_resolution name: (_) @name)]) @def.module

(call method: (identifier) @name (#not-match? @name "^require(_relative)?$")) @ref.call
(call receiver: (constant) @name) @ref.type
(superclass [(constant) @name (scope_resolution name: (constant) @name)]) @ref.inherit

(call method: (identifier) @_require arguments: (argument_list . (string (string_content) @import))
  (#any-of? @_require "require" "require_relative"))
