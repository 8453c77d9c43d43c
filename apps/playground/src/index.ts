/** @mige/playground: see README.md. The web app arrives with its own issue. */
export const packageName = '@mige/playground';
