// RFC 9110 syntax both directions of the HTTP/1.1 upstream client check against.

/** token (§5.6.2): what a field name, a method and a transfer coding are made of */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
