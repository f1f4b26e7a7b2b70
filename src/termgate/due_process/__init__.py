"""Due process (issue 13): cases with notice and cure (clauses 4.2, 6.2), and the cluster's one
scheduler that acts on every deadline exactly once; verification (4.3), incident reports (5.1),
termination and deletion attestations (6.2-6.4), and the case file that exports any of them."""
