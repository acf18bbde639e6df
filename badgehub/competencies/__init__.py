"""A territory's competency framework: the competencies its achievements align to."""
