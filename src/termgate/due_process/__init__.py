"""Due process (issue 13): cases with notice and cure (clauses 4.2, 6.2), and the cluster's one
scheduler that acts on every deadline exactly once."""
