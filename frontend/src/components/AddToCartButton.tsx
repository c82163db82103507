import { useLocation, useNavigate } from 'react-router-dom';
import { useAppDispatch, useAppSelector } from '../app/hooks';
import { useAddToCartMutation } from '../api/shopApi';
import type { Product } from '../api/types';
import { selectIsLoggedIn } from '../features/auth/authSlice';
import { toastShown } from '../features/ui/uiSlice';
import { messageOf } from '../lib/problem';

export function AddToCartButton({
  product,
  quantity = 1,
  className = 'btn',
}: {
  product: Pick<Product, 'id' | 'name' | 'stock'>;
  quantity?: number;
  className?: string;
}) {
  const loggedIn = useAppSelector(selectIsLoggedIn);
  const dispatch = useAppDispatch();
  const navigate = useNavigate();
  const location = useLocation();
  const [add, { isLoading }] = useAddToCartMutation();
  const soldOut = product.stock <= 0;
  return (
    <button
      type="button"
      className={className}
      disabled={soldOut || isLoading}
      aria-label={soldOut ? `${product.name} is sold out` : `Add ${product.name} to cart`}
      onClick={async () => {
        if (!loggedIn) {
          navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, {
            state: { reason: 'Log in to add items to your cart.' },
          });
          return;
        }
        try {
          await add({ product_id: product.id, quantity }).unwrap();
          dispatch(toastShown(`${quantity > 1 ? `${quantity} × ` : ''}${product.name} added to your cart`));
        } catch (e) {
          dispatch(toastShown(messageOf(e as never), 'error'));
        }
      }}
    >
      {soldOut ? 'Sold out' : isLoading ? 'Adding…' : 'Add to cart'}
    </button>
  );
}
