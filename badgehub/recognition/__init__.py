"""Recognition requests, self-declared badges and the peer-recognition badge (issue 17, part 2)."""
