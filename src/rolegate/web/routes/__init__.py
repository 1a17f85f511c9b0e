"""One module per page: auth (login, logout, workspaces), roles, matrix, home."""
