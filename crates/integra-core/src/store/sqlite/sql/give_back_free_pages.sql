-- Gives up to 16 free pages (64 KB at 4 KB pages) back to the file system: pages from the
-- end of the file move into free ones (each move rewrites its parent's pointer, about three
-- pages written per page given back) and the file is cut short at commit. Sixteen keep the
-- transaction near a millisecond.
PRAGMA incremental_vacuum(16)
