"""Publishing the night: the release/published asset (assets.py), the last step of every build."""
