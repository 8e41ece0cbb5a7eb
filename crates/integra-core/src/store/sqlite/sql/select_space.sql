-- The database file's size and free space in bytes, and whether free pages can be given back
-- (auto_vacuum 2, incremental).
SELECT c.page_count * s.page_size, f.freelist_count * s.page_size, v.auto_vacuum
FROM pragma_page_count() c, pragma_freelist_count() f, pragma_page_size() s,
     pragma_auto_vacuum() v
