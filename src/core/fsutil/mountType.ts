import * as fs from 'node:fs';

/**
 * Network and cluster file systems: each call is a round trip (so a scan wants more calls in
 * flight), and their change events do not reach a watcher reliably.
 */
export const NETWORK_FS = /^(nfs4?|cifs|smb3?|smbfs|9p|fuse\.sshfs|fuse\.rclone|fuse\.gcsfuse|fuse\.s3fs|afs|ceph|glusterfs|lustre|gpfs|beegfs)$/;

/** The type of the mount holding `p`, from the text of /proc/mounts (the longest matching mount point). */
export function mountTypeIn(mounts: string, p: string): string | null {
  let best: { mount: string; type: string } | null = null;
  for (const line of mounts.split('\n')) {
    const [, mount, type] = line.split(' ');
    if (!mount || !type) continue;
    const m = mount.replace(/\\040/g, ' ');
    if ((p === m || p.startsWith(m.endsWith('/') ? m : `${m}/`)) && (!best || m.length > best.mount.length)) best = { mount: m, type };
  }
  return best?.type ?? null;
}

/** The file-system type of the mount holding `p` (Linux: /proc/mounts), or null when unknown. */
export function fsTypeOf(p: string): string | null {
  try {
    return mountTypeIn(fs.readFileSync('/proc/mounts', 'utf8'), p);
  } catch {
    return null;
  }
}

export function isNetworkFs(p: string): boolean {
  const type = fsTypeOf(p);
  return type !== null && NETWORK_FS.test(type);
}
