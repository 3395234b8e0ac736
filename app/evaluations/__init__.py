"""Evaluations (quizzes) among a course's lessons, Chilean grades and each participant's course status."""
