"""The dataset layer: reading and validating sentence rows and articles, splitting, annotation-tool interchange,
and turning moderators' feedback into rows. Training and the service both build on it; it imports neither."""
