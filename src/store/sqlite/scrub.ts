/** The `meta` row by which a migration asks for the file to be VACUUMed once it has committed (open.ts). */
export const SCRUB_KEY = 'vacuum_requested_by';
