"""The desk's own widgets: the queue's table and its header line, the key bar, the filter box with its history, the policy editor."""
