"""cash-out-feed: live and historical cash-out activity for betting agents."""
