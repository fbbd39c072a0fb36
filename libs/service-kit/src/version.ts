// The product version every app reports (SPEC 1.4.7: the installed version is visible).
export const VERSION = '0.1.0';
