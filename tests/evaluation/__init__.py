"""Matcher evaluation: labelled DJ-tracklist queries scored end to end against the sandbox."""
