"""`fedchain dashboard`: a read-only web page that follows one task as the chain moves (`server`), showing the
state `state` reads: the task's report as ``fedchain status`` reads it, and what its events tell besides
(`activity`: slashes, challenges and disputes, claims, gas by transaction kind)."""
