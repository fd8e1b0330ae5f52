"""Training runs, model requirements and the champion arrive with the training issue."""
