"""Depth fusion: robust depth under keypoints, skin-to-centre, lifted fill-in, smoothing."""
