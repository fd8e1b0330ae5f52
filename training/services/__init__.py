"""Writes of the training app: runs, the champion, requirements, schedules, model files."""
