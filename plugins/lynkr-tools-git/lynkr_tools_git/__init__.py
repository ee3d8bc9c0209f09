"""lynkr tools: git status, diff, stage, commit, push, pull, log and release notes through dulwich."""
