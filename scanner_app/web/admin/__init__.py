"""Managing users in the browser: ``/admin/users``, for admins only."""
