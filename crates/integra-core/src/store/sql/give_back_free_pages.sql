-- Gives up to 256 free pages (1 MB at 4 KB pages) back to the file system: pages from the
-- end of the file move into free ones and the file is cut short at commit.
PRAGMA incremental_vacuum(256)
