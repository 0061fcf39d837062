/// Storage failures, worded for the person holding the phone.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StorageError {
    #[error("Trình duyệt không cho phép lưu dữ liệu trên máy (IndexedDB): {0}")]
    Unavailable(String),
    #[error("Bộ nhớ của máy đã đầy, không lưu được. Hãy giải phóng dung lượng rồi thử lại.")]
    QuotaExceeded,
    #[error("Dữ liệu trên máy không đọc được (có thể do phiên bản ứng dụng khác): {0}")]
    Corrupt(String),
    #[error("Máy này còn {0} mục chưa gửi của người dùng trước. Người đó cần đăng nhập và đồng bộ (hoặc xuất tệp sao lưu) trước khi người khác dùng máy.")]
    OtherUsersWork(u32),
    #[error("Lỗi lưu trữ trên máy: {0}")]
    Other(String),
}

impl StorageError {
    pub(crate) fn from_open(e: indexed_db_futures::error::OpenDbError) -> StorageError {
        StorageError::Unavailable(e.to_string())
    }
}

impl From<indexed_db_futures::error::Error> for StorageError {
    fn from(e: indexed_db_futures::error::Error) -> StorageError {
        let text = e.to_string();
        if text.contains("QuotaExceeded") {
            StorageError::QuotaExceeded
        } else {
            StorageError::Other(text)
        }
    }
}
