/** Package name, until the package's own issue gives it content. */
export const packageName = '@lvs-ha/vip';
