"""Pathways: groups of badges that lead to a pathway badge or to a qualification (issue 17, part 3)."""
