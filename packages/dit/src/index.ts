/** @mige/dit: see README.md. The implementation arrives with its own issue. */
export const packageName = '@mige/dit';
