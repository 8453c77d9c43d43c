/** @mige/data: see README.md. The implementation arrives with its own issue. */
export const packageName = '@mige/data';
