"""The command line and its output: thin wrappers around the jobs and the review queries."""
