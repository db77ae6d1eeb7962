/**
 * What posts need from whatever stores images (the media feature fills it in):
 * posts never reads images itself, so it works, without pictures, when nothing does.
 */
export interface PostImages {
  /** Whether an image with this id exists (a featured image must). */
  exists(id: string): Promise<boolean>;
  /** Responsive <picture> HTML for each ref, in order (null for an image not found), in one batch; `alt` '' means the image's own. */
  pictures(refs: { id: string; alt: string }[], opts: { sizes: string; eager: boolean; className?: string }): Promise<(string | null)[]>;
  /** A file to attach to feed entries, by id: absolute URL, MIME type and size in bytes. */
  enclosures(ids: string[]): Promise<Map<string, { url: string; type: string; length: number; width: number; height: number }>>;
  /** The sharing cards' image for a post's featured image: an absolute URL of a JPEG or PNG about 1200 pixels wide, its size and alt text; null when not found. */
  shareImage(ref: { id: string; alt: string }): Promise<{ url: string; width: number; height: number; alt: string } | null>;
  /** The newest images, for the editor to choose from: id, a label, a thumbnail URL and a Markdown snippet. */
  recent(limit: number): Promise<{ id: string; label: string; thumbUrl: string; markdown: string }[]>;
}

/** The holder posts reads from; provide() is called once by the feature that stores images. */
export interface PostImagesPort {
  provide(impl: PostImages): void;
  get(): PostImages | null;
}

/** An empty port: no images until a feature provides them. */
export function createPostImagesPort(): PostImagesPort {
  let impl: PostImages | null = null;
  return {
    provide(i) {
      impl = i;
    },
    get: () => impl,
  };
}

/** The ids of posts' featured images, without repeats. */
export function featureImageIds(posts: { featureImage: { id: string } | null }[]): string[] {
  return [...new Set(posts.flatMap((p) => (p.featureImage ? [p.featureImage.id] : [])))];
}
