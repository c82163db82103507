import { useState } from 'react';

/** The product's picture, or a neutral placeholder when it has none or it
 * fails to load. */
export function ProductImage({ src, alt, className }: { src: string; alt: string; className?: string }) {
  const [broken, setBroken] = useState(false);
  if (!src || broken) {
    return (
      <div className={`img-placeholder ${className ?? ''}`} role="img" aria-label={alt}>
        <span aria-hidden="true">{alt.slice(0, 1).toUpperCase()}</span>
      </div>
    );
  }
  return <img className={className} src={src} alt={alt} loading="lazy" onError={() => setBroken(true)} />;
}
