"""lynkr tools: workspace files, search, the project's test command and a task tracker."""
