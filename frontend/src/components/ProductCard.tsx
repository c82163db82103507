import { Link } from 'react-router-dom';
import type { Product } from '../api/types';
import { AddToCartButton } from './AddToCartButton';
import { Money } from './Money';
import { ProductImage } from './ProductImage';

export function stockText(stock: number): string {
  if (stock <= 0) return 'Out of stock';
  if (stock <= 5) return `Only ${stock} left`;
  return 'In stock';
}

export function ProductCard({ product }: { product: Product }) {
  return (
    <li className="card" data-testid="product-card">
      <Link to={`/products/${product.id}`} className="card-link">
        <ProductImage src={product.image_url} alt={product.name} className="card-img" />
        <div className="card-body">
          <h2 className="card-title">{product.name}</h2>
          <p className="card-meta">
            <Money cents={product.price_cents} currency={product.currency} className="price" />
            <span className={`stock ${product.stock <= 5 ? 'stock-low' : ''}`}>{stockText(product.stock)}</span>
          </p>
        </div>
      </Link>
      <div className="card-actions">
        <AddToCartButton product={product} className="btn btn-block" />
      </div>
    </li>
  );
}

export function ProductCardSkeleton() {
  return (
    <li className="card skeleton" aria-hidden="true">
      <div className="card-img" />
      <div className="card-body">
        <div className="line" />
        <div className="line short" />
      </div>
    </li>
  );
}
