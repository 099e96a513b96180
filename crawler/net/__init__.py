"""The polite HTTP edge: the client every source uses, its deadline, bounded decompression, masking
of secrets, and the CDN purge."""
