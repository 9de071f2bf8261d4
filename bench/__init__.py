"""`make bench`: build a synthetic network, serve it as production does, load it from another process."""
