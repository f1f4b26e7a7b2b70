"""Due process beyond detection: verification (4.3), incident reports (5.1), termination and
deletion attestations (6.2-6.4), and the case file that exports any of them (issue 13)."""
