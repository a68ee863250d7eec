"""tfx-kfp."""
