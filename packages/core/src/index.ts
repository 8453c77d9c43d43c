export const packageName = '@mige/core';
