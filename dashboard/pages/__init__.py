"""The dashboard's pages, one room per feature: each builds its page and registers its own callbacks."""
