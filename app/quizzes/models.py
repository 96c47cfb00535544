"""Models of the quizzes area."""
