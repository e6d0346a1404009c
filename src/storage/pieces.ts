/**
 * Value bytes in pieces: an entry's value is written as a list of byte ranges laid end to end, so
 * that a large typed array is written from its own memory instead of being copied into one buffer.
 * @module
 */

/** The total length of pieces. */
export function piecesLength(pieces: readonly Uint8Array[]): number {
  let length = 0;
  for (const piece of pieces) length += piece.length;
  return length;
}

/** The pieces as one buffer: the piece itself when there is one, else a copy of them all. */
export function joinPieces(pieces: readonly Uint8Array[]): Uint8Array {
  if (pieces.length === 1) return pieces[0] as Uint8Array;
  const joined = new Uint8Array(piecesLength(pieces));
  let offset = 0;
  for (const piece of pieces) {
    joined.set(piece, offset);
    offset += piece.length;
  }
  return joined;
}
