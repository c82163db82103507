import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { useGetCategoriesQuery, useGetProductQuery } from '../api/shopApi';
import { AddToCartButton } from '../components/AddToCartButton';
import { ErrorNote } from '../components/ErrorNote';
import { Money } from '../components/Money';
import { stockText } from '../components/ProductCard';
import { ProductImage } from '../components/ProductImage';
import { Spinner } from '../components/Spinner';
import { statusOf } from '../lib/problem';

export function ProductPage() {
  const { id = '' } = useParams();
  const { data: p, error, isLoading, refetch } = useGetProductQuery(id);
  const categories = useGetCategoriesQuery();
  const [qty, setQty] = useState(1);

  if (isLoading) return <Spinner label="Loading the product…" />;
  if (statusOf(error) === 404 || statusOf(error) === 400) {
    return (
      <div className="page narrow">
        <h1>Product not found</h1>
        <p className="muted">It may have been removed from the catalog.</p>
        <Link to="/" className="btn">
          Back to the shop
        </Link>
      </div>
    );
  }
  if (error || !p) return <ErrorNote error={error} onRetry={refetch} />;

  const category = categories.data?.items.find((c) => c.slug === p.category);
  const max = Math.max(1, Math.min(99, p.stock));
  return (
    <div className="page">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/">All products</Link>
        {category && (
          <>
            <span aria-hidden="true"> / </span>
            <Link to={`/?category=${encodeURIComponent(category.slug)}`}>{category.name}</Link>
          </>
        )}
      </nav>
      <article className="product">
        <ProductImage src={p.image_url} alt={p.name} className="product-img" />
        <div className="product-info">
          <h1>{p.name}</h1>
          <p className="product-price">
            <Money cents={p.price_cents} currency={p.currency} />
          </p>
          <p className={`stock ${p.stock <= 5 ? 'stock-low' : ''}`} data-testid="stock">
            {stockText(p.stock)}
            {p.stock > 5 && <span className="muted"> · {p.stock} available</span>}
          </p>
          <p className="description">{p.description}</p>
          {p.stock > 0 && (
            <div className="buy">
              <label>
                <span>Quantity</span>
                <select value={qty} onChange={(e) => setQty(Number(e.target.value))}>
                  {Array.from({ length: Math.min(max, 10) }, (_, i) => i + 1).map((n) => (
                    <option key={n} value={n}>
                      {n}
                    </option>
                  ))}
                </select>
              </label>
              <AddToCartButton product={p} quantity={qty} className="btn btn-accent btn-large" />
            </div>
          )}
          <p className="muted small">SKU {p.sku}</p>
        </div>
      </article>
    </div>
  );
}
