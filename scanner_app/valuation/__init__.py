"""Fair-value estimates: the assumptions, the two discounting methods, their inputs."""
