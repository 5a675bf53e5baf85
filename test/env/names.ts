// Collision-free object names, so tests sharing one control plane never see each other's objects.
import { randomBytes } from 'node:crypto';

/** `prefix-xxxxxx`: a DNS-1123 label (prefix is lower-cased and trimmed to fit 63 characters). */
export function uniqueName(prefix: string): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 50)
    .replace(/-+$/, '');
  return `${clean}-${randomBytes(4).toString('hex').slice(0, 6)}`;
}
