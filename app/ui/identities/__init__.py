"""The Users/Groups browser: a lazily paged table model over app.store.browse and its widgets."""
