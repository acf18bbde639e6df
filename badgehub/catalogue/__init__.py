"""A territory's catalogue: themes, the search over its achievements, and employers' skills demand."""
