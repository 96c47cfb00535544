"""Models of the attendance area."""
